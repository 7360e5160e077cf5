"""The JSON pages of the lists are written by orjson straight from each row's fields (Listing.fields),
not through the response model: their bytes must be exactly what pydantic writes for that model — the
same fields in the same order, the same formatting — or the API would change under its clients."""

from __future__ import annotations

import pytest

from app.api.catalog import INDICATORS, PROJECTS, UNITS
from app.api.stats import DEPARTMENT_STATS, UNIT_STATS
from tests.api.read_data import YEAR, build

LISTS = [
    (f"/api/v1/units?year={YEAR}&limit=2", UNITS),
    (f"/api/v1/projects?year={YEAR}&limit=3", PROJECTS),
    (f"/api/v1/indicators?year={YEAR}&limit=4", INDICATORS),
    (f"/api/v1/indicators?year={YEAR}&met=false&limit=100", INDICATORS),
    (f"/api/v1/stats/units?year={YEAR}&limit=2", UNIT_STATS),
    (f"/api/v1/stats/departments?year={YEAR}", DEPARTMENT_STATS),
]


@pytest.fixture
def world(session):
    return build(session)


@pytest.mark.parametrize(("url", "listing"), LISTS, ids=[u.split("?")[0] for u, _ in LISTS])
def test_a_json_page_is_the_bytes_pydantic_writes_for_its_model(client, world, url, listing):
    seen = 0
    while url:
        response = client.get(url, headers=world.auth("finance"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        model = listing.envelope.model_validate_json(response.content)
        assert response.content == model.__pydantic_serializer__.to_json(model, by_alias=True)
        for item in response.json()["items"]:  # every field of the model, in its order
            assert list(item) == list(listing.item.model_fields)
        seen += len(model.items)
        url = model.next
    assert seen
