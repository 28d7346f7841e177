"""The playground's JSON API through an HTTP client (Starlette's TestClient,
httpx underneath): answers agree with the Python API, and bad requests get a
clear 4xx, never a 500."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import nextword
import pytest
from conftest import require_module

require_module("starlette", "pip install 'nextword[serve]'")
require_module("httpx", "pip install httpx")

from nextword.serve import Playground, create_app, load_models  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

TEXT = [
    "the king is dead",
    "long live the king",
    "the queen is here",
    "the king and the queen rode out",
    "to be or not to be",
] * 6


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("serve")
    (root / "t.txt").write_text("\n".join(TEXT) + "\n", encoding="utf-8")
    paths = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for order in (2, 3):
            paths[f"kn{order}"] = root / f"kn{order}.nwlm"
            nextword.NGramLM.fit(root / "t.txt", order=order, progress=False).save(
                paths[f"kn{order}"]
            )
    paths["index"] = root / "t.idx"
    nextword.CorpusIndex.build(root / "t.txt", path=root / "t.idx", progress=False)
    return paths


@pytest.fixture(scope="module")
def client(files: dict[str, Path]) -> TestClient:
    models = load_models([str(files["kn2"]), str(files["kn3"])])
    index = nextword.CorpusIndex.open(files["index"])
    return TestClient(create_app(Playground(models, index)))


def post(client: TestClient, path: str, body: Any) -> tuple[int, Any]:
    r = client.post(path, json=body)
    return r.status_code, r.json()


def test_page_and_models(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and 'id="prompt"' in r.text
    info = client.get("/api/models").json()
    assert [m["name"] for m in info["models"]] == ["kn2.nwlm", "kn3.nwlm"]
    assert info["models"][1]["order"] == 3 and info["models"][1]["joiner"] == " "
    assert set(info["endpoints"]) >= {"POST /api/predict", "POST /api/generate", "POST /api/score"}


def test_predict_agrees_with_the_model(client: TestClient, files: dict[str, Path]) -> None:
    status, data = post(
        client, "/api/predict", {"model": "kn3.nwlm", "context": "long live", "k": 3}
    )
    assert status == 200
    expected = nextword.NGramLM.load(files["kn3"]).predict("long live", k=3)
    assert [(c["token"], c["prob"]) for c in data["candidates"]] == [
        (w, pytest.approx(p)) for w, p in expected
    ]
    assert data["candidates"][0]["token"] == "the"
    # Two models, one prompt: each answers with its own distribution.
    _, other = post(client, "/api/predict", {"model": "kn2.nwlm", "context": "long live", "k": 3})
    assert other["candidates"] != data["candidates"]


def test_predict_names_unknown_words(client: TestClient) -> None:
    _, data = post(client, "/api/predict", {"context": "zebra king"})
    assert data["unknown"] == ["zebra"] and data["tokens"] == ["zebra", "king"]


def test_generate_is_seeded_and_explains_each_step(
    client: TestClient, files: dict[str, Path]
) -> None:
    body = {"model": "kn3.nwlm", "prompt": "the", "max_tokens": 12, "seed": 5, "explain": 3}
    status, data = post(client, "/api/generate", body)
    assert status == 200
    assert len(data["steps"]) == 12  # goes on across sentence ends
    assert all(len(s["candidates"]) <= 3 for s in data["steps"])
    assert post(client, "/api/generate", body)[1] == data
    status, one = post(client, "/api/generate", {**body, "one_sentence": True})
    lm = nextword.NGramLM.load(files["kn3"])
    assert one["text"] == "the " + lm.generate("the", max_tokens=12, seed=5)


def test_score_agrees_with_the_model(client: TestClient, files: dict[str, Path]) -> None:
    status, data = post(client, "/api/score", {"model": "kn2.nwlm", "text": "the king is here"})
    assert status == 200
    lm = nextword.NGramLM.load(files["kn2"])
    assert data["logprob"] == pytest.approx(lm.score("the king is here"), abs=1e-5)
    assert [t["token"] for t in data["tokens"]] == ["the", "king", "is", "here", "</s>"]


def test_novelty_and_find_use_the_index(client: TestClient) -> None:
    status, data = post(
        client, "/api/novelty", {"tokens": ["long", "live", "the", "king", "zebra"]}
    )
    assert status == 200
    spans = data["spans"]
    assert [s["match"] for s in spans] == [4, 4, 4, 4, 0]
    assert spans[0]["span"] == "long live the king" and not spans[0]["novel"]
    assert spans[4]["novel"]
    status, hits = post(client, "/api/find", {"phrase": "long live", "limit": 2})
    assert status == 200 and hits["count"] == 6 and len(hits["hits"]) == 2
    assert hits["hits"][0]["match"] == "long live"


BAD = [
    ("/api/predict", {"k": 0}, 422, "k must be between 1 and 100"),
    ("/api/predict", {"k": "ten"}, 422, "k must be int"),
    ("/api/predict", {"k": True}, 422, "k must be int"),
    ("/api/predict", {"model": "nope"}, 404, "no model named 'nope'"),
    ("/api/predict", {"context": "x" * 10_001}, 422, "limit is 10,000"),
    ("/api/predict", [1, 2], 400, "must be a JSON object"),
    ("/api/generate", {"max_tokens": 1000}, 422, "max_tokens must be between 1 and 200"),
    ("/api/generate", {"temperature": -1}, 422, "temperature must be between"),
    ("/api/generate", {"top_p": 0.0}, 422, "top_p"),
    ("/api/generate", {"seed": -3}, 422, "seed must be between"),
    ("/api/generate", {"one_sentence": "yes"}, 422, "one_sentence must be bool"),
    ("/api/score", {}, 422, "text is required"),
    ("/api/score", {"text": "   "}, 422, "nothing to score"),
    ("/api/novelty", {"tokens": [1, 2]}, 422, "list of at most"),
    ("/api/find", {"phrase": "a", "limit": 0}, 422, "limit must be between"),
]


@pytest.mark.parametrize(
    "path,body,status,message", BAD, ids=[f"{p} {b}"[:60] for p, b, _, _ in BAD]
)
def test_bad_requests_get_a_clear_4xx(
    client: TestClient, path: str, body: Any, status: int, message: str
) -> None:
    got, data = post(client, path, body)
    assert got == status
    assert message in data["error"]


def test_a_body_that_is_not_json_or_too_large(client: TestClient) -> None:
    r = client.post(
        "/api/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    r = client.post(
        "/api/predict", content=b"\xff\xfe", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    r = client.post("/api/predict", content=b" " * 70_000)
    assert r.status_code == 413


def test_without_an_index_novelty_is_404(files: dict[str, Path]) -> None:
    client = TestClient(create_app(Playground(load_models([str(files["kn2"])]))))
    status, data = post(client, "/api/novelty", {"tokens": ["the"]})
    assert status == 404 and "--index" in data["error"]
    assert client.get("/api/models").json()["index"] is None
