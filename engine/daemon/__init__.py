"""The long-lived daemon: live feed or accelerated replay, journal and recovery, HTTP/WebSocket control, status."""
