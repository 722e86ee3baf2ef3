"""Deploy jobs that must end in Failed with a FailureReason saying why (Debian boto3 1.26)."""

import pytest

from thaw_asserts import assert_failed, assert_in_service, wait_gone
from thaw_harness import XGBOOST_IMAGE, Link

DOWNLOAD = 'Failed to download model data from URL "{url}"'
EXTRACT = 'Failed to extract model data archive from URL "{url}"'


def deploy(res, url, image=XGBOOST_IMAGE):
    return res.endpoint(res.config(model=res.model(url=url, image=image)), wait=False)


@pytest.mark.parametrize("source, prefix", [
    ("missing", DOWNLOAD),
    ("missing_bucket", DOWNLOAD),
    ("https", None),
    ("not_gzip", EXTRACT),
    ("gzip_not_tar", EXTRACT),
    ("empty_file", EXTRACT),
])
def test_bad_model_data_fails_the_endpoint(sm, res, store, source, prefix):
    url = {"missing": lambda: store.url("no-such-dir/model.tar.gz"),
           "missing_bucket": lambda: "s3://no-such-bucket-e2e/model.tar.gz",
           "https": lambda: "https://example.com/bucket/model.tar.gz",
           "not_gzip": store.not_gzip,
           "gzip_not_tar": store.gzip_not_tar,
           "empty_file": lambda: store.put(b"")}[source]()
    name = deploy(res, url)
    assert_failed(sm, name, startswith=prefix and prefix.format(url=url), contains=[url])
    sm.delete_endpoint(EndpointName=name)
    wait_gone(sm, name)


@pytest.mark.parametrize("image", [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-container:latest",
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.42-9",
    "nginx:latest",
])
def test_unknown_image_fails_the_endpoint(sm, res, store, image):
    desc = assert_failed(sm, deploy(res, store.xgboost(), image=image))
    assert "not supported" in desc["FailureReason"]


def test_tar_slip_is_refused(sm, res, store, server):
    url = store.tar_slip()
    assert_failed(sm, deploy(res, url), startswith=EXTRACT.format(url=url))
    escaped = list(server.root.rglob("*evil*"))
    assert escaped == [], f"tar slip wrote outside the model directory: {escaped}"


@pytest.fixture(scope="module")
def bait(server):
    """A directory and a file outside the data dir that hostile archives aim at."""
    outside, secret = server.root / "outside", server.root / "secret.txt"
    outside.mkdir()
    secret.write_text("not for models\n")
    return outside, secret


ESCAPES = {  # name → members, built from (outside dir, secret file)
    "absolute-path": lambda out, secret: [(str(out / "evil"), b"x")],
    "dotdot-inside-path": lambda out, secret: [("a/../../evil", b"x")],
    "symlink-to-outside-dir": lambda out, secret: [("esc", Link(str(out))),
                                                   ("esc/evil", b"x")],
    "relative-symlink-up": lambda out, secret: [("esc", Link("../../../../../..")),
                                                ("esc/evil", b"x")],
    "symlink-to-outside-file": lambda out, secret: [("code", None),
                                                    ("code/link", Link(str(secret)))],
    "hardlink-to-outside-file": lambda out, secret: [("hl", Link(str(secret), hard=True))],
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_archive_escapes_are_refused(sm, res, store, bait, escape):
    outside, secret = bait
    url = store.archive(ESCAPES[escape](outside, secret))
    assert_failed(sm, deploy(res, url), startswith=EXTRACT.format(url=url))
    assert list(outside.iterdir()) == []
    assert secret.stat().st_nlink == 1, "a hard link to a host file was created"


def test_links_inside_the_model_directory_are_fine(sm, res, store):
    url = store.archive([("code", None), ("code/model", Link("../xgboost-model")),
                         ("alias", Link("xgboost-model")),
                         ("copy", Link("xgboost-model", hard=True))])
    assert_in_service(sm, deploy(res, url))


def test_image_of_other_region_and_account_is_recognised(sm, res, store):
    image = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
    assert_in_service(sm, deploy(res, store.xgboost(), image=image))
