"""The OpenAPI document matches the served routes and the real responses."""

from __future__ import annotations

import io
import re

import jsonschema

from proofcheck.api.openapi import document
from tests.conftest import image_bytes, run_worker
from tests.test_api import post_check


def assert_matches(doc: dict, model: str, body: object) -> None:
    schema = {"$ref": f"#/components/schemas/{model}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_every_api_route_is_documented_and_nothing_else(app):
    doc = document()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/docs":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_document_is_served_and_is_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    assert doc["paths"]["/checks"]["post"]["x-scope"] == "submit"
    assert client.get("/api/v1/docs").status_code == 200


def test_real_responses_validate_against_the_document(client, auth, services):
    doc = document()
    data = image_bytes(seed=91)
    created = post_check(client, auth, data, account="instagram:@a", kind="receipt").get_json()
    assert_matches(doc, "ChecksCreated", created)
    post_check(client, auth, data, account="instagram:@b")
    check_url = created["checks"][0]["url"]
    assert_matches(doc, "CheckOut", client.get(check_url, headers=auth).get_json())
    batch = client.post("/api/v1/batches", headers=auth, json={"items": [
        {"image_base64": __import__("base64").b64encode(data).decode(), "filename": "x.png"},
        {"image_base64": "@@@", "filename": "bad.png"}]}).get_json()
    assert_matches(doc, "BatchCreated", batch)
    run_worker(services)
    assert_matches(doc, "CheckOut", client.get(check_url, headers=auth).get_json())
    assert_matches(doc, "BatchOut", client.get(batch["url"], headers=auth).get_json())
    account = client.get("/api/v1/accounts/instagram:@b", headers=auth).get_json()
    assert_matches(doc, "AccountOut", account)
    found = client.post("/api/v1/search", headers=auth, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(data), "q.png")}).get_json()
    assert_matches(doc, "SearchOut", found)
    for response in (client.get("/api/v1/checks/c_none", headers=auth),
                     post_check(client, auth, b"junk"), post_check(client, {}, data)):
        assert_matches(doc, "Error", response.get_json())


def test_every_api_route_refuses_a_request_without_a_key(app, client):
    public = {"/api/v1/openapi.json", "/api/v1/docs"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in public:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", "x", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code == 401, (method, url)
            assert response.get_json()["error"]["code"] == "unauthorized"
