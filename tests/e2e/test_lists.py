"""ListModels / ListEndpointConfigs / ListEndpoints: the three paginators, defaults (MaxResults 10,
newest first), sorting, filters and NextToken handling, through Debian's boto3 1.26 (and raw
requests where boto3 would round timestamps to whole seconds)."""

import datetime

import pytest

from thaw_asserts import expect_error, names_of, raw_call, settle
from thaw_harness import unique

COUNT = 12
KINDS = {  # op → (result key, name key)
    "list_models": ("Models", "ModelName"),
    "list_endpoint_configs": ("EndpointConfigs", "EndpointConfigName"),
    "list_endpoints": ("Endpoints", "EndpointName"),
}
RAW_OPS = {"list_models": "ListModels", "list_endpoint_configs": "ListEndpointConfigs",
           "list_endpoints": "ListEndpoints"}


@pytest.fixture(scope="module")
def population(sm, res, store):
    """COUNT uniquely named resources of each kind sharing a token; names are in creation order.
    Endpoints also get two Failed siblings (under their own token) for the status filters."""
    token = unique("lst")
    names = {op: [] for op in KINDS}
    model = res.model()
    config = res.config(model=model)
    for _ in range(COUNT):
        names["list_models"].append(res.model(name=f"{token}-{unique('m')}"))
        names["list_endpoint_configs"].append(res.config(model=model,
                                                         name=f"{token}-{unique('c')}"))
        names["list_endpoints"].append(res.endpoint(config, name=f"{token}-{unique('e')}",
                                                    wait=False))
    failed_token = unique("fail")
    broken = res.config(model=res.model(url=store.not_gzip()))
    failed = [res.endpoint(broken, name=f"{failed_token}-{i}", wait=False) for i in range(2)]
    for name in names["list_endpoints"] + failed:
        settle(sm, name)
    return {"token": token, "names": names, "failed_token": failed_token, "failed": failed}


def list_all(sm, op, **params):
    key, _ = KINDS[op]
    return [item for page in sm.get_paginator(op).paginate(**params) for item in page[key]]


def assert_newest_first(items):
    times = [item["CreationTime"] for item in items]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize("op", KINDS)
def test_paginator_pages_through_everything(sm, population, op):
    key, name_key = KINDS[op]
    pages = list(sm.get_paginator(op).paginate(NameContains=population["token"],
                                               PaginationConfig={"PageSize": 5}))
    assert [len(page[key]) for page in pages] == [5, 5, 2]
    assert all("NextToken" in page for page in pages[:-1])
    assert "NextToken" not in pages[-1]
    items = [item for page in pages for item in page[key]]
    names = names_of(items, name_key)
    assert sorted(names) == sorted(population["names"][op]), "every item exactly once"
    assert_newest_first(items)


@pytest.mark.parametrize("op", KINDS)
def test_default_page_is_ten_newest_first(sm, population, op):
    key, name_key = KINDS[op]
    first = getattr(sm, op)(NameContains=population["token"])
    assert len(first[key]) == 10
    assert first["NextToken"]
    rest = getattr(sm, op)(NameContains=population["token"], NextToken=first["NextToken"])
    assert "NextToken" not in rest
    names = names_of(first[key] + rest[key], name_key)
    assert sorted(names) == sorted(population["names"][op])
    assert_newest_first(first[key] + rest[key])


@pytest.mark.parametrize("op", KINDS)
@pytest.mark.parametrize("order", ["Ascending", "Descending"])
def test_sort_by_name(sm, population, op, order):
    _, name_key = KINDS[op]
    items = list_all(sm, op, NameContains=population["token"], SortBy="Name", SortOrder=order,
                     PaginationConfig={"PageSize": 4})
    names = names_of(items, name_key)
    assert names == sorted(population["names"][op], reverse=order == "Descending")


@pytest.mark.parametrize("op", KINDS)
def test_sort_by_creation_time_ascending(sm, population, op):
    _, name_key = KINDS[op]
    items = list_all(sm, op, NameContains=population["token"], SortBy="CreationTime",
                     SortOrder="Ascending")
    times = [item["CreationTime"] for item in items]
    assert len(items) == COUNT and times == sorted(times)
    if len(set(times)) == COUNT:  # no two created within the clock's resolution
        assert names_of(items, name_key) == population["names"][op]


@pytest.mark.parametrize("op", KINDS)
def test_empty_result_keeps_the_key(sm, op):
    key, _ = KINDS[op]
    response = getattr(sm, op)(NameContains=unique("nothing"))
    assert response[key] == []
    assert "NextToken" not in response


@pytest.mark.parametrize("op", KINDS)
def test_creation_time_window_whole_seconds(sm, population, op):
    hour = datetime.timedelta(hours=1)
    now = datetime.datetime.now(datetime.timezone.utc)
    token = population["token"]
    assert len(list_all(sm, op, NameContains=token, CreationTimeBefore=now + hour)) == COUNT
    assert len(list_all(sm, op, NameContains=token, CreationTimeAfter=now - hour)) == COUNT
    assert list_all(sm, op, NameContains=token, CreationTimeAfter=now + hour) == []
    assert list_all(sm, op, NameContains=token, CreationTimeBefore=now - hour) == []


@pytest.mark.parametrize("op", KINDS)
def test_creation_time_after_is_inclusive(server, population, op):
    """Raw requests with the exact epoch value the server returned (boto3 would truncate it)."""
    key, name_key = KINDS[op]

    def listing(**params):
        status, _, body = raw_call(server.port, RAW_OPS[op],
                                   {"NameContains": population["token"], "MaxResults": 100,
                                    **params})
        assert status == 200, body
        return {item[name_key]: item["CreationTime"] for item in body[key]}

    everything = listing()
    assert all(isinstance(t, (int, float)) for t in everything.values()), "epoch numbers"
    pivot_name = population["names"][op][COUNT // 2]
    pivot = everything[pivot_name]
    after = listing(CreationTimeAfter=pivot)
    assert pivot_name in after
    assert after == {n: t for n, t in everything.items() if t >= pivot}
    before = listing(CreationTimeBefore=pivot)
    assert {n for n, t in everything.items() if t < pivot} <= set(before)
    assert all(t <= pivot for t in before.values())


def test_endpoints_status_filter_and_sort(sm, population):
    failed = sm.list_endpoints(NameContains=population["failed_token"], StatusEquals="Failed")
    assert sorted(names_of(failed["Endpoints"], "EndpointName")) == sorted(population["failed"])
    assert {e["EndpointStatus"] for e in failed["Endpoints"]} == {"Failed"}
    in_service = list_all(sm, "list_endpoints", NameContains=population["token"],
                          StatusEquals="InService")
    assert len(in_service) == COUNT
    for order in ("Ascending", "Descending"):
        listed = sm.list_endpoints(SortBy="Status", SortOrder=order, MaxResults=100)["Endpoints"]
        statuses = [e["EndpointStatus"] for e in listed]
        assert statuses == sorted(statuses, reverse=order == "Descending")


def test_endpoint_summary_fields(sm, population):
    [summary] = sm.list_endpoints(NameContains=population["names"]["list_endpoints"][0])[
        "Endpoints"]
    assert set(summary) >= {"EndpointName", "EndpointArn", "CreationTime", "LastModifiedTime",
                            "EndpointStatus"}
    assert summary["EndpointStatus"] == "InService"


@pytest.mark.parametrize("op", KINDS)
def test_garbage_next_token_is_a_validation_error(sm, op):
    expect_error(getattr(sm, op), NextToken="not-a-token-this-server-issued")
