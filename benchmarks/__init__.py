"""Speed and memory benchmarks (`make bench`). They print figures and ratios measured in the same run."""
