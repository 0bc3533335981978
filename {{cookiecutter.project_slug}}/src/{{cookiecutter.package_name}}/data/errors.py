"""The error a stage raises for bad data, kept apart from pandera so importing it is cheap."""


class DataValidationError(ValueError):
    """Data broke its stage's schema; the message says where and how."""
