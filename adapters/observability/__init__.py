"""Metrics (Prometheus), traces (OpenTelemetry) and JSON logs of MFO's operations."""
