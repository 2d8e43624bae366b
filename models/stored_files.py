"""Which rows refer to stored files (infra/storage.py), as one SQL query: the backup lists what a database
snapshot needs from the file root, and checks the backup holds it."""

from __future__ import annotations

from models.catalog import Product
from models.finance import Invoice
from models.orders import Attachment


def _table(model: type) -> str:
    return f'"{model._meta.db_table}"'  # type: ignore[attr-defined]


# Each row: the file's path under the storage root ("files/ab/abcd…" or "thumbs/ab/abcd…"). Attachments are
# photos, drawings and signatures; invoices keep their scanned file; products their catalogue photo.
REFERENCED_FILES = f"""
SELECT 'files/' || substr(sha256, 1, 2) || '/' || sha256 FROM {_table(Attachment)}
UNION SELECT 'thumbs/' || substr(sha256, 1, 2) || '/' || sha256 FROM {_table(Attachment)} WHERE has_thumbnail
UNION SELECT 'files/' || substr(file_sha256, 1, 2) || '/' || file_sha256 FROM {_table(Invoice)}
    WHERE file_sha256 IS NOT NULL
UNION SELECT 'files/' || substr(image_sha256, 1, 2) || '/' || image_sha256 FROM {_table(Product)}
    WHERE image_sha256 IS NOT NULL
"""
