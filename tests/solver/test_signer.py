"""Where the settling key comes from, and that it stays out of files others read and logs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from settlement.deployment import Account, Deployment
from solver.cli import _build_parser
from solver.network import settings_from_args
from solver.signer import ENVIRONMENT_VARIABLE, SignerKeyError, signer_key

KEY = "0x" + "ab" * 32


def _key_file(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "signer.key"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_file_wins_over_the_environment(tmp_path: Path) -> None:
    path = _key_file(tmp_path, KEY.upper().replace("0X", "0x") + "\n", 0o600)
    other = "0x" + "cd" * 32
    assert signer_key(str(path), {ENVIRONMENT_VARIABLE: other}) == KEY
    assert signer_key(None, {ENVIRONMENT_VARIABLE: other}) == other
    assert signer_key(None, {ENVIRONMENT_VARIABLE: "cd" * 32}) == other  # 0x optional
    assert signer_key(None, {}) is None  # the deployment's solver account signs


def test_a_key_file_others_may_read_is_refused_without_showing_the_key(tmp_path: Path) -> None:
    path = _key_file(tmp_path, KEY, 0o644)
    with pytest.raises(SignerKeyError, match="0644") as raised:
        signer_key(str(path), {})
    assert "ab" * 32 not in str(raised.value)


@pytest.mark.parametrize("value", ["0x1234", "not a key", "0x" + "zz" * 32])
def test_a_value_that_is_no_key_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(SignerKeyError, match=ENVIRONMENT_VARIABLE) as raised:
        signer_key(None, {ENVIRONMENT_VARIABLE: value})
    assert value not in str(raised.value)


def test_a_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SignerKeyError, match="cannot read"):
        signer_key(str(tmp_path / "absent"), {})


def test_serve_reads_the_key_file_into_the_settings_and_never_shows_it(tmp_path: Path) -> None:
    path = _key_file(tmp_path, KEY, 0o600)
    args = _build_parser().parse_args(["serve", "--signer-key-file", str(path)])
    settings = settings_from_args(args, str(tmp_path / "devnet.json"))
    assert settings is not None and settings.signer_key == KEY
    assert "ab" * 32 not in repr(settings)


def test_the_deployment_file_is_written_for_its_owner_only(
    devnet: Deployment, tmp_path: Path
) -> None:
    path = tmp_path / "devnet.json"
    path.write_text("{}")
    path.chmod(0o644)  # an older, wider file is narrowed when rewritten
    devnet.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Deployment.load(path) == devnet


def test_an_accounts_repr_hides_its_key(devnet: Deployment) -> None:
    account = Account(devnet.solver.address, KEY)
    assert "ab" * 32 not in repr(account) and devnet.solver.address in repr(account)
    assert devnet.solver.private_key[2:] not in repr(devnet)
    _, key = account  # still a pair where one is unpacked
    assert key == KEY
