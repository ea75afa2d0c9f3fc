"""Outbound integrations: the process-wide HTTP client that providers and webhooks use."""
