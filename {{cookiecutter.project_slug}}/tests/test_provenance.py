"""Provenance: the DVC hash of the experiment data a model was trained on."""

from pathlib import Path

from {{ cookiecutter.package_name }}.provenance import dvc_output_hash


def test_dvc_hash_is_read_from_the_lock_file(tmp_path: Path) -> None:
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  build:\n    outs:\n    - path: data/experiment/a\n"
        "      md5: abc.dir\n",
        encoding="utf-8",
    )

    assert dvc_output_hash(tmp_path, tmp_path / "data/experiment/a") == "abc.dir"
    assert dvc_output_hash(tmp_path, tmp_path / "data/other") is None
