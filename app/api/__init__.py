"""The JSON API under ``/api/v1`` plus the health probes; one router module per resource."""
