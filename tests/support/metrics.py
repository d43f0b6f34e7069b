"""Reading the Prometheus exposition `/metrics` answers: every sample by family, one sample by
its labels, a route's request count."""

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

LATENCY = "afterview_http_request_duration_seconds"

Samples = dict[str, list[Sample]]


def parse(body: str) -> Samples:
    """Every sample of the exposition, by family name."""
    return {family.name: list(family.samples) for family in text_string_to_metric_families(body)}


def value(samples: Samples, family: str, sample: str, **labels: str) -> float:
    """The one sample named `sample` in `family` whose labels include `labels` (0 if none)."""
    found = [
        s.value
        for s in samples.get(family, [])
        if s.name == sample and labels.items() <= s.labels.items()
    ]
    assert len(found) <= 1, f"{sample}{labels} matches {len(found)} samples"
    return found[0] if found else 0.0


def request_count(samples: Samples, route: str, status: str, method: str = "GET") -> float:
    return value(samples, LATENCY, f"{LATENCY}_count", method=method, route=route, status=status)


async def scrape(client: httpx.AsyncClient, **headers: str) -> Samples:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)
