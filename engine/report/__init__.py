"""What a researcher reads: report.html for a run or a sweep, and the notebook API's result (notebook.py).

Everything here works from a finished run's files, after the run: it never
slows a backtest. It needs the ``research`` extra (plotly; pandas for the
notebook API); the core engine does not import it.
"""
