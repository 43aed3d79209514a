"""Personal-data vault: SM4-GCM encryption at rest, blind indexes and masking.

Infrastructure, not a domain: pure functions over keys and values, no tables
and so no repository.
"""

from wallet.vault.masking import mask_id_number, mask_name, mask_phone, mask_text
from wallet.vault.service import Vault

__all__ = ["Vault", "mask_id_number", "mask_name", "mask_phone", "mask_text"]
