"""Off-site copies of backup files in S3-compatible object storage (boto3).

A backup file is uploaded once it has been verified; the file is already
encrypted by us (``archive.py``), so the storage sees ciphertext only. The
object's key is ``<prefix><store slug>/<backup id>.bobk`` and its metadata
holds the file's SHA-256, checked again after every download. Files larger
than one part (``backoffice.offsite_part_size`` MiB, default 8) go up in
parts (multipart upload), several at a time.

Settings: ``backoffice.offsite_bucket`` (empty: no off-site copies),
``offsite_prefix``, ``offsite_endpoint_url`` (MinIO, Ceph, a provider's S3
endpoint; empty: AWS), ``offsite_region``; the credentials from
``BACKOFFICE_OFFSITE_ACCESS_KEY`` / ``BACKOFFICE_OFFSITE_SECRET_KEY``, else
boto3's own chain (``AWS_ACCESS_KEY_ID``..., an instance role).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tenancy.backups.archive import BackupError
from tenancy.settings import as_int

MIB = 1024 * 1024
MIN_PART_MIB = 5  # S3's smallest part but the last


class OffsiteError(BackupError):
    """The object storage refused or failed; the message says which object."""


class OffsiteStore:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "backoffice/",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        part_size_mib: int = 8,
    ):
        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
        part = max(part_size_mib, MIN_PART_MIB) * MIB
        self.transfer = TransferConfig(
            multipart_threshold=part, multipart_chunksize=part, max_concurrency=4
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> OffsiteStore | None:
        bucket = (settings.get("backoffice.offsite_bucket") or "").strip()
        if not bucket:
            return None
        return cls(
            bucket,
            prefix=settings.get("backoffice.offsite_prefix", "backoffice/"),
            endpoint_url=settings.get("backoffice.offsite_endpoint_url"),
            region=settings.get("backoffice.offsite_region"),
            access_key=settings.get("backoffice.offsite_access_key"),
            secret_key=settings.get("backoffice.offsite_secret_key"),
            part_size_mib=as_int(settings, "backoffice.offsite_part_size", minimum=1, default="8"),
        )

    def key(self, slug: str, backup_id: str) -> str:
        return f"{self.prefix}{slug}/{backup_id}.bobk"

    def upload(self, path: str | os.PathLike, key: str, sha256: str) -> None:
        size = os.path.getsize(path)
        try:
            self.client.upload_file(
                str(path),
                self.bucket,
                key,
                ExtraArgs={"Metadata": {"sha256": sha256}},
                Config=self.transfer,
            )
            stored = self.client.head_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise OffsiteError(f"upload of {key} to bucket {self.bucket} failed: {exc}") from exc
        if stored["ContentLength"] != size:
            raise OffsiteError(f"{key}: {stored['ContentLength']} bytes stored, {size} sent")

    def download(self, key: str, path: str | os.PathLike, sha256: str | None) -> None:
        """Into *path* (written as ``.part``, renamed once its SHA-256 matches)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_suffix(".part")
        try:
            self.client.download_file(self.bucket, key, str(partial), Config=self.transfer)
        except (BotoCoreError, ClientError) as exc:
            partial.unlink(missing_ok=True)
            raise OffsiteError(
                f"download of {key} from bucket {self.bucket} failed: {exc}"
            ) from exc
        os.chmod(partial, 0o600)
        if sha256 and _sha256(partial) != sha256:
            partial.unlink(missing_ok=True)
            raise OffsiteError(f"{key} differs from the backup recorded (SHA-256)")
        os.replace(partial, target)

    def delete(self, key: str) -> None:
        """Idempotent: a missing object is not an error."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise OffsiteError(f"delete of {key} from bucket {self.bucket} failed: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise OffsiteError(f"cannot read {key} in bucket {self.bucket}: {exc}") from exc
        return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()
