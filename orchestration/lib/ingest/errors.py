"""The two ways an ingest fails: the landed files break the contract, or rows went missing."""

class SourceContractError(Exception):
    """The landed files break the source contract (missing folder, file or column, unreadable)."""


class RowAccountingError(RuntimeError):
    """Rows read did not equal rows loaded + quarantined + dropped as duplicates."""
