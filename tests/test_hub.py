from unittest import mock

import pytest

from rml_lama import cli
from rml_lama.dataset import hub, release
from rml_lama.errors import RmlLamaError


@pytest.fixture()
def folder(tmp_path, tiny_release_records):
    return release.write_release(tiny_release_records, tmp_path / "rml-lama")


def test_publish_creates_the_dataset_repo_and_uploads_the_release(folder):
    api = mock.Mock()
    files = hub.publish(folder, "my-org/rml-lama", api=api, revision="v1")
    api.create_repo.assert_called_once_with("my-org/rml-lama", repo_type="dataset", private=False, exist_ok=True)
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "my-org/rml-lama" and kwargs["repo_type"] == "dataset"
    assert kwargs["folder_path"] == str(folder) and kwargs["revision"] == "v1"
    assert "README.md" in files and "data/ja/test-00000-of-00001.parquet" in files


def test_dry_run_lists_files_and_touches_nothing(folder, capsys):
    with mock.patch("huggingface_hub.HfApi") as api:
        assert cli.main(["publish", "--repo-id", "org/rml-lama", "--folder", str(folder), "--dry-run"]) == 0
    api.assert_not_called()
    out = capsys.readouterr().out
    assert "data/en/test-00000-of-00001.parquet" in out and "would upload" in out


def test_repo_id_must_be_namespaced(folder):
    with pytest.raises(RmlLamaError, match="namespaced"):
        hub.publish(folder, "rml-lama", dry_run=True)


def test_hub_errors_become_one_line(folder, capsys):
    with mock.patch("huggingface_hub.HfApi") as api:
        api.return_value.create_repo.side_effect = ConnectionError("no route to host")
        code = cli.main(["publish", "--repo-id", "org/rml-lama", "--folder", str(folder)])
    assert code == 2
    assert "upload to org/rml-lama failed: ConnectionError: no route to host" in capsys.readouterr().err
