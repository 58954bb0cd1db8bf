"""A tempest service client for Heat's orchestration API (v1).

tempest 47 ships no orchestration client (heat-tempest-plugin uses
python-heatclient), so heatplug's plugin brings one on tempest's own
``RestClient``: requests go through tempest's auth provider, credentials and
catalog, and never through python-heatclient, which heatplug itself uses.
What the tests compare heatplug's tables with is therefore Heat's raw JSON.

Stacks are addressed by ``name/id`` (a bare name or id is a redirect).
"""

import json
import time
from urllib import parse

from tempest.lib.common import rest_client
from tempest.lib import exceptions as lib_exc


def _q(text):
    return parse.quote(str(text), safe="")


class OrchestrationClient(rest_client.RestClient):
    """Heat's v1 API, the calls heatplug's tests need."""

    # -- plumbing ------------------------------------------------------------

    def _json(self, method, url, expected, body=None, params=None):
        if params:
            query = parse.urlencode(
                [(k, v) for k, v in sorted(params.items()) if v is not None],
                doseq=True)
            if query:
                url = "%s?%s" % (url, query)
        if method in ("POST", "PUT", "PATCH"):
            resp, raw = getattr(self, method.lower())(
                url, json.dumps(body if body is not None else {}))
        else:
            resp, raw = getattr(self, method.lower())(url)
        self.expected_success(expected, resp.status)
        data = json.loads(raw) if raw else {}
        return rest_client.ResponseBody(resp, data)

    @staticmethod
    def stack_path(stack):
        """``stacks/name/id`` for a stack dict or a ``name/id`` string."""
        if isinstance(stack, dict):
            stack = "%s/%s" % (stack["stack_name"], stack["id"])
        name, _, sid = stack.partition("/")
        return "stacks/%s/%s" % (_q(name), _q(sid))

    # -- stacks ---------------------------------------------------------------

    def list_stacks(self, **params):
        return self._json("GET", "stacks", 200, params=params)

    def create_stack(self, name, template, parameters=None, files=None,
                     tags=None, disable_rollback=True, timeout_mins=None,
                     environment=None):
        body = {"stack_name": name, "template": template,
                "parameters": parameters or {}, "files": files or {},
                "disable_rollback": disable_rollback}
        if tags:
            body["tags"] = ",".join(tags)
        if timeout_mins is not None:
            body["timeout_mins"] = timeout_mins
        if environment is not None:
            body["environment"] = environment
        return self._json("POST", "stacks", 201, body=body)

    def update_stack(self, stack, template, parameters=None, files=None):
        body = {"template": template, "parameters": parameters or {},
                "files": files or {}}
        return self._json("PUT", self.stack_path(stack), 202, body=body)

    def show_stack(self, stack):
        return self._json("GET", self.stack_path(stack), 200)

    def show_template(self, stack):
        return self._json("GET", self.stack_path(stack) + "/template", 200)

    def delete_stack(self, stack):
        return self._json("DELETE", self.stack_path(stack), 204)

    def wait_for_stack_status(self, stack, action):
        """Wait until the stack's status is ``<action>_COMPLETE`` or
        ``_FAILED``; return the stack (the caller checks which)."""
        deadline = time.monotonic() + self.build_timeout
        while True:
            shown = self.show_stack(stack)["stack"]
            status = shown["stack_status"]
            if status in (action + "_COMPLETE", action + "_FAILED"):
                return shown
            if time.monotonic() > deadline:
                raise lib_exc.TimeoutException(
                    "stack %s is %s after %s s (waiting for %s)"
                    % (shown["stack_name"], status, self.build_timeout,
                       action))
            time.sleep(self.build_interval)

    def wait_for_stack_deleted(self, stack):
        deadline = time.monotonic() + self.build_timeout
        while True:
            try:
                shown = self.show_stack(stack)["stack"]
            except lib_exc.NotFound:
                return
            if shown["stack_status"] == "DELETE_COMPLETE":
                return
            if shown["stack_status"] == "DELETE_FAILED":
                raise lib_exc.DeleteErrorException(
                    "stack %s: %s" % (shown["stack_name"],
                                      shown["stack_status_reason"]))
            if time.monotonic() > deadline:
                raise lib_exc.TimeoutException(
                    "stack %s still %s after %s s"
                    % (shown["stack_name"], shown["stack_status"],
                       self.build_timeout))
            time.sleep(self.build_interval)

    # -- resources and events -------------------------------------------------

    def list_resources(self, stack, **params):
        return self._json("GET", self.stack_path(stack) + "/resources", 200,
                          params=params)

    def show_resource_metadata(self, stack, resource):
        return self._json("GET", "%s/resources/%s/metadata"
                          % (self.stack_path(stack), _q(resource)), 200)

    def list_events(self, stack, **params):
        return self._json("GET", self.stack_path(stack) + "/events", 200,
                          params=params)

    def show_event(self, stack, resource, event_id):
        return self._json("GET", "%s/resources/%s/events/%s"
                          % (self.stack_path(stack), _q(resource),
                             _q(event_id)), 200)

    def list_resource_types(self, **params):
        return self._json("GET", "resource_types", 200, params=params)

    def show_resource_type(self, type_name):
        return self._json("GET", "resource_types/%s" % _q(type_name), 200)

    # -- snapshots ------------------------------------------------------------

    def create_snapshot(self, stack, name=None):
        body = {"name": name} if name else {}
        return self._json("POST", self.stack_path(stack) + "/snapshots",
                          200, body=body)

    def list_snapshots(self, stack):
        return self._json("GET", self.stack_path(stack) + "/snapshots", 200)

    def show_snapshot(self, stack, snapshot_id):
        return self._json("GET", "%s/snapshots/%s"
                          % (self.stack_path(stack), _q(snapshot_id)), 200)

    def wait_for_snapshot(self, stack, snapshot_id):
        deadline = time.monotonic() + self.build_timeout
        while True:
            snap = self.show_snapshot(stack, snapshot_id)["snapshot"]
            if snap["status"] in ("COMPLETE", "FAILED"):
                return snap
            if time.monotonic() > deadline:
                raise lib_exc.TimeoutException(
                    "snapshot %s still %s after %s s"
                    % (snapshot_id, snap["status"], self.build_timeout))
            time.sleep(self.build_interval)

    # -- software configs and deployments -------------------------------------

    def create_software_config(self, **body):
        return self._json("POST", "software_configs", 200, body=body)

    def list_software_configs(self, **params):
        return self._json("GET", "software_configs", 200, params=params)

    def show_software_config(self, config_id):
        return self._json("GET", "software_configs/%s" % _q(config_id), 200)

    def delete_software_config(self, config_id):
        return self._json("DELETE", "software_configs/%s" % _q(config_id),
                          204)

    def create_software_deployment(self, **body):
        return self._json("POST", "software_deployments", 200, body=body)

    def list_software_deployments(self, **params):
        return self._json("GET", "software_deployments", 200, params=params)

    def show_software_deployment(self, deployment_id):
        return self._json("GET", "software_deployments/%s"
                          % _q(deployment_id), 200)

    def update_software_deployment(self, deployment_id, **body):
        return self._json("PUT", "software_deployments/%s"
                          % _q(deployment_id), 200, body=body)

    def delete_software_deployment(self, deployment_id):
        return self._json("DELETE", "software_deployments/%s"
                          % _q(deployment_id), 204)
