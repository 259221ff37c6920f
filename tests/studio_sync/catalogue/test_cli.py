"""``onset studio ingest`` and ``onset studio find`` driven through ``main`` with the test studio's profile."""

from __future__ import annotations

import json

import pytest

from edge.cli.main import main


def test_ingest_prints_each_take_refuses_the_bad_ones_and_exits_1(catalogue_url, studio, capsys):
    r = studio.recorded
    code = main(["studio", "ingest", "--profile", str(studio.running.profile), "--catalogue", catalogue_url,
                 "--progress"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith(f"ingested {r.dolly.name}: 4 files verified against generation 2 (xxh64), ")
               for line in lines), out
    assert any(line.startswith(f"ingested {r.zoom.name}: 3 files verified against generation 2 (xxh128)")
               for line in lines), out
    refused = lines.index(next(line for line in lines
                               if line.startswith(f"REFUSED {r.damaged.name}: does NOT match generation 1: ")))
    assert [line.split(":")[0].strip() for line in lines[refused + 1:refused + 4]] == ["altered", "missing", "extra"]
    assert "bag/bag_0.mcap" in lines[refused + 1] and "bag/metadata.yaml" in lines[refused + 2]
    assert "notes.txt" in lines[refused + 3]
    assert any(line.startswith(f"REFUSED {r.unsealed.name}: no ASC MHL history") for line in lines)
    assert any(line.startswith(f"REFUSED {r.tampered.name}: its ASC MHL history cannot be trusted") for line in lines)
    assert any(line.startswith(f"FAILED {r.fake.name}: ") for line in lines)
    assert lines[-1].startswith(f"catalogue {catalogue_url}: 2 ingested, 3 refused, 1 failed (run ")
    assert f"{r.zoom.name}: 0.0 of " in err and " MiB hashed" in err


def test_ingest_of_good_takes_exits_0_and_json_is_the_report(catalogue_url, studio, capsys):
    names = sorted(studio.good)
    code = main(["studio", "ingest", *names, "--profile", str(studio.running.profile), "--catalogue", catalogue_url,
                 "--json", "--fps", "6"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"] is True and report["ingested"] == 2
    assert [t["take"] for t in report["takes"]] == names and all(t["status"] == "ingested" for t in report["takes"])
    assert all(t["frames"] > 0 and t["problems"] == [] for t in report["takes"])
    assert report["source"] == f"s3://{studio.config.storage.bucket}/takes/"

    assert main(["studio", "find", "push in", "--profile", str(studio.running.profile), "--catalogue", catalogue_url,
                 "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["query"]["movements"] == ["dolly_in"] and found["total"] == 1 and found["level"] == "shot"
    assert found["read_as"] == ['"push in" -> movement is dolly_in']
    assert found["shots"][0]["take"] == studio.recorded.dolly.name and found["shots"][0]["slate"] == "dolly-s2/1/1"


def test_find_prints_how_it_read_the_phrase_and_a_table_of_shots(ingested, studio, capsys):
    profile = str(studio.running.profile)
    assert main(["studio", "find", "MCU, zoom in", "--profile", profile, "--catalogue", ingested.url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["read as:", '  "MCU" -> shot size is MCU (medium close-up)',
                       '  "zoom in" -> movement is zoom_in']
    header = out[4].split()
    assert header == ["TAKE", "SLATE", "SHOT", "TC", "IN-OUT", "SIZE", "FOCAL", "MOVEMENT", "DISTANCE", "FRAMES"]
    row = out[5]
    assert row.split()[:3] == [studio.recorded.zoom.name, "zoom-s1/1/1", "0"] and " MCU " in row
    assert " mm " in row and "zoom_in" in row and "%/s" in row and row.split()[-1].count("/") == 1
    assert out[-1] == "1 shot matches"

    assert main(["studio", "find", "MCU, 75mm", "--profile", profile, "--catalogue", ingested.url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no shot matches"
    assert main(["studio", "find", "MCU, 75mm", "--frames", "--profile", profile, "--catalogue", ingested.url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 shot holds matching frames"
    assert main(["studio", "find", "35mm", "--limit", "1", "--profile", profile, "--catalogue", ingested.url]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "3 shots match (1 shown; --limit)"


def test_a_phrase_it_cannot_read_names_the_word_and_what_it_knows(ingested, studio, capsys):
    code = main(["studio", "find", "MCU, dolyl in", "--profile", str(studio.running.profile), "--catalogue",
                 ingested.url])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert '"dolyl" is not a word the vocabulary knows' in err
    assert "      ^^^^^" in err and '"dolly"' in err and "it knows:" in err and "movements (" in err


@pytest.mark.parametrize("argv, words", [
    (["studio", "find", "MCU"], "no catalogue at"),
    (["studio", "ingest"], "refused the keys"),
])
def test_failures_are_one_line_and_exit_1(tmp_path, studio, capsys, monkeypatch, argv, words):
    monkeypatch.setenv("ONSET_STUDIO_READER_ACCESS_KEY", "NOSUCHKEY")
    monkeypatch.setenv("ONSET_STUDIO_READER_SECRET_KEY", "nosecret")
    code = main([*argv, "--profile", str(studio.running.profile), "--catalogue",
                 f"sqlite:///{tmp_path / 'nothing' / 'catalogue.sqlite'}"])
    err = capsys.readouterr().err
    assert code == 1 and words in err and err.count("\n") == 1


def test_an_empty_catalogue_is_not_searched(tmp_path, studio, capsys):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    (tmp_path / "empty.sqlite").write_bytes(b"")
    assert main(["studio", "find", "MCU", "--profile", str(studio.running.profile), "--catalogue", url]) == 1
    assert "holds no Onset catalogue yet" in capsys.readouterr().err


def test_help_shows_examples(capsys):
    for command in ("ingest", "find"):
        with pytest.raises(SystemExit) as done:
            main(["studio", command, "--help"])
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out and f"onset studio {command}" in out and "--catalogue URL" in out
