"""Encrypted backups of one store, and restore, clone and move built on them.

Modules: ``archive`` (the encrypted file format), ``codec`` (canonical rows),
``dump`` (consistent snapshot reader), ``load`` (loader and checks),
``service`` (take/verify/list backups), ``restore`` (restore, clone, move),
``retention`` (prune).
"""

from tenancy.backups.archive import BackupError

__all__ = ["BackupError"]
