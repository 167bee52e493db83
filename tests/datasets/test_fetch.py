"""Issue 15 item 9: ``edgeperf fetch`` against a local HTTP server: a broken connection, a resumed
download and a checksum mismatch. Expected digests are computed here with hashlib."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

pytest.importorskip("httpx")
pytest.importorskip("tenacity")

from http_fixture import FileServer  # noqa: E402

from edgeperf.datasets.fetch import ChecksumMismatch, DownloadError, fetch_file  # noqa: E402

DATA = bytes(range(256)) * 1024  # 256 KiB, several chunks
MD5 = hashlib.md5(DATA).hexdigest()
SHA = hashlib.sha256(DATA).hexdigest()


def test_broken_connection_is_resumed_not_restarted(tmp_path):
    with FileServer({"model.onnx": DATA}) as server:
        server.break_after["model.onnx"] = [100_000]
        result = fetch_file(server.url + "model.onnx", tmp_path / "model.onnx", f"md5:{MD5}", backoff_s=0.01)
        ranges = [r for name, r in server.requests if name == "model.onnx"]
    assert (tmp_path / "model.onnx").read_bytes() == DATA
    assert ranges[0] is None and ranges[1] is not None
    start = int(ranges[1][len("bytes=") :].split("-")[0])
    assert 0 < start <= 100_000  # continued from the bytes it had
    assert result.official and result.digest == MD5
    assert not (tmp_path / "model.onnx.part").exists()


def test_partial_file_from_an_earlier_run_is_resumed(tmp_path):
    (tmp_path / "dev.tar.gz.part").write_bytes(DATA[:50_000])
    with FileServer({"dev.tar.gz": DATA}) as server:
        result = fetch_file(server.url + "dev.tar.gz", tmp_path / "dev.tar.gz", f"sha256:{SHA}")
        assert server.requests == [("dev.tar.gz", "bytes=50000-")]
    assert result.resumed_from == 50_000 and result.downloaded
    assert (tmp_path / "dev.tar.gz").read_bytes() == DATA


def test_checksum_mismatch_names_the_file_and_both_digests(tmp_path):
    wrong = "0" * 32
    with FileServer({"vocab.txt": DATA}) as server:
        with pytest.raises(ChecksumMismatch) as info:
            fetch_file(server.url + "vocab.txt", tmp_path / "vocab.txt", f"md5:{wrong}")
    message = str(info.value)
    assert message.startswith("vocab.txt: md5 checksum mismatch")
    assert wrong in message and MD5 in message
    assert not (tmp_path / "vocab.txt").exists() and not (tmp_path / "vocab.txt.part").exists()


def test_no_official_checksum_records_one_and_checks_it_later(tmp_path):
    with FileServer({"dev-v1.1.json": DATA}) as server:
        first = fetch_file(server.url + "dev-v1.1.json", tmp_path / "dev-v1.1.json")
        assert not first.official and first.digest == SHA
        assert (tmp_path / "dev-v1.1.json.sha256").read_text().split()[0] == SHA
        again = fetch_file(server.url + "dev-v1.1.json", tmp_path / "dev-v1.1.json")
        assert not again.downloaded and len(server.requests) == 1
    (tmp_path / "dev-v1.1.json").write_bytes(DATA[:-1] + b"x")  # corrupted on disk
    with pytest.raises(ChecksumMismatch, match="dev-v1.1.json: sha256 checksum mismatch"):
        fetch_file("http://127.0.0.1:9/unused", tmp_path / "dev-v1.1.json")


def test_gives_up_after_the_last_attempt_keeping_the_part(tmp_path):
    with FileServer({"f.bin": DATA}) as server:
        server.break_after["f.bin"] = [1000, 1000]
        with pytest.raises(DownloadError, match="after 2 attempt") as info:
            fetch_file(server.url + "f.bin", tmp_path / "f.bin", attempts=2, backoff_s=0.01)
    assert "2000 bytes kept in f.bin.part" in str(info.value)
    assert not (tmp_path / "f.bin").exists()
    with FileServer({"f.bin": DATA}) as server:  # the same command again finishes the job
        result = fetch_file(server.url + "f.bin", tmp_path / "f.bin", f"md5:{MD5}")
    assert result.resumed_from == 2000 and (tmp_path / "f.bin").read_bytes() == DATA


def test_http_error_is_a_download_error(tmp_path):
    with FileServer({}) as server:
        with pytest.raises(DownloadError, match="HTTP 404"):
            fetch_file(server.url + "missing.bin", tmp_path / "missing.bin", attempts=1)


def _cli(*args):
    from click.testing import CliRunner

    from edgeperf.cli.main import build_command

    return CliRunner().invoke(build_command(), [str(a) for a in args])


def test_cli_fetch_with_a_mirror_verifies_the_official_checksum_and_extracts(tmp_path, monkeypatch):
    """``edgeperf fetch librispeech --mirror URL``: the catalogue's file name and official MD5, served locally."""
    from edgeperf.datasets import catalog

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("LibriSpeech/dev-clean/1/2/1-2.trans.txt")
        payload = b"1-2-0000 HELLO\n"
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    archive = buf.getvalue()
    item = catalog.DATASETS["librispeech"]
    official = item.files[0]
    # the real MD5 is that of the real 337 MB archive: point the catalogue at this one's for the test
    monkeypatch.setitem(
        catalog.DATASETS,
        "librispeech",
        catalog.Item(
            item.name,
            item.kind,
            item.description,
            (catalog.Download(official.url, official.filename, "md5:" + hashlib.md5(archive).hexdigest(), "test"),),
        ),
    )
    with FileServer({"dev-clean.tar.gz": archive}) as server:
        r = _cli(
            "fetch",
            "librispeech",
            "--dest",
            tmp_path,
            "--mirror",
            server.url,
            "--extract",
            "--json",
            tmp_path / "fetch.json",
        )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "LibriSpeech/dev-clean/1/2/1-2.trans.txt").read_bytes() == payload
    doc = json.loads((tmp_path / "fetch.json").read_text())
    assert doc["format"] == "edgeperf-fetch" and doc["files"][0]["official_checksum"] is True


def test_cli_fetch_mismatch_is_one_line_and_exit_1(tmp_path):
    with FileServer({"resnet34-ssd1200.onnx": b"not the model"}) as server:
        r = _cli("fetch", "ssd-resnet34", "--dest", tmp_path, "--mirror", server.url)
    assert r.exit_code == 1
    line = next(ln for ln in r.output.splitlines() if "mismatch" in ln)
    assert "resnet34-ssd1200.onnx" in line
    assert "b417a8186967f1e78670b0075aa72a10e5c7d1a6d5c08af9d13dc97f3d29ef0d" in line
    assert hashlib.sha256(b"not the model").hexdigest() in line
    assert "Traceback" not in r.output


def test_cli_fetch_manual_dataset_explains_how(tmp_path):
    r = _cli("fetch", "imagenet", "--dest", tmp_path)
    assert r.exit_code == 2 and "image-net.org" in r.output and "val_map.txt" in r.output


def test_cli_fetch_to_an_unwritable_place_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with FileServer({"224_224_160.onnx": DATA}) as server:
        r = _cli("fetch", "3d-unet-99", "--dest", blocker / "sub", "--mirror", server.url)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "cannot write the download" in r.output


def test_progress_reports_bytes_done_out_of_the_total(tmp_path):
    seen = []
    (tmp_path / "p.bin.part").write_bytes(DATA[:10_000])
    with FileServer({"p.bin": DATA}) as server:
        fetch_file(server.url + "p.bin", tmp_path / "p.bin", progress=lambda done, total: seen.append((done, total)))
    assert seen[0][0] > 10_000 and seen[-1] == (len(DATA), len(DATA))  # counts the resumed bytes too
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))
    assert {t for _, t in seen} == {len(DATA)}


def test_cli_progress_off_a_terminal_is_a_plain_line(capsys):
    from edgeperf.cli.datasets_cmd import _Progress

    progress = _Progress("model.onnx", "bytes")
    progress(1000, 4000)  # under 10 s since the start: quiet
    progress(4000, 4000)  # done: always reported
    progress.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].endswith("model.onnx: 4,000/4,000 bytes")


def test_catalogue_checksums_are_well_formed_and_sourced():
    from edgeperf.datasets.catalog import DATASETS, MODELS
    from edgeperf.datasets.fetch import parse_checksum

    files = [f for item in (*MODELS.values(), *DATASETS.values()) for f in item.files]
    assert all(f.url.startswith(("http://", "https://")) for f in files)
    with_sum = [f for f in files if f.checksum]
    assert all(parse_checksum(f.checksum) and f.checksum_source for f in with_sum)
    # the reference's own librispeech-inference.csv
    assert DATASETS["librispeech"].files[0].checksum == "md5:42e2234ba48799c1f50f24a7926300a1"
    assert all(item.manual for item in DATASETS.values() if not item.files)
