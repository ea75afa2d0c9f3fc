"""The OpenAPI document as clients see it: stable, readable operation ids."""

from __future__ import annotations

import re
from typing import Any

from app.config import Settings
from app.main import create_app


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", scheduler="off")
    schema = create_app(settings, run_scheduler=False).openapi()
    return [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


class TestOperationIds:
    def test_every_operation_id_is_unique(self) -> None:
        ids = [op["operationId"] for _, _, op in _operations()]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        assert not dupes, f"two routes share a function name: {dupes}"

    def test_operation_ids_are_snake_case_function_names_without_path_or_method(self) -> None:
        for method, path, op in _operations():
            oid = op["operationId"]
            assert re.fullmatch(r"[a-z][a-z0-9_]*", oid), (method, path, oid)
            assert "api_v1" not in oid, (method, path, oid)
            assert not oid.endswith(f"_{method}"), (method, path, oid)

    def test_known_operations_keep_their_ids(self) -> None:
        ids = {(m, p): op["operationId"] for m, p, op in _operations()}
        assert ids[("post", "/api/v1/clubs")] == "create_club"
        assert ids[("get", "/api/v1/clubs")] == "list_clubs"
        assert ids[("post", "/api/v1/memberships/{membership_id}/renewals")] == "renew_membership"


class TestLinks:
    def test_main_flows_are_linked_to_operations_that_exist(self) -> None:
        ops = {(m, p): op for m, p, op in _operations()}
        ids = {op["operationId"] for op in ops.values()}
        targets: dict[tuple[str, str], set[str]] = {}
        for (method, path), op in ops.items():
            for response in op["responses"].values():
                for link in response.get("links", {}).values():
                    assert link["operationId"] in ids, link
                    targets.setdefault((method, path), set()).add(link["operationId"])
        assert "create_member" in targets[("post", "/api/v1/clubs")]
        assert "create_membership" in targets[("post", "/api/v1/members")]
        assert {"create_freeze", "renew_membership"} <= targets[("post", "/api/v1/memberships")]
        assert "record_outcome" in targets[("post", "/api/v1/meetings")]

    def test_link_parameters_name_real_parameters_of_their_target(self) -> None:
        by_id = {op["operationId"]: op for _, _, op in _operations()}
        for _, _, op in _operations():
            for response in op["responses"].values():
                for link in response.get("links", {}).values():
                    target = by_id[link["operationId"]]
                    names = {p["name"] for p in target.get("parameters", [])}
                    assert set(link.get("parameters", {})) <= names, link
