"""Personal-data vault: SM4-GCM encryption at rest, blind indexes and masking."""

from wallet.vault.masking import mask_id_number, mask_name, mask_phone, mask_text
from wallet.vault.service import Vault

__all__ = ["Vault", "mask_id_number", "mask_name", "mask_phone", "mask_text"]
