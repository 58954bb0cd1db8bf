"""tempest service clients for Heat's orchestration API."""

from tempest_plugin.services.orchestration.orchestration_client import \
    OrchestrationClient

__all__ = ["OrchestrationClient"]
