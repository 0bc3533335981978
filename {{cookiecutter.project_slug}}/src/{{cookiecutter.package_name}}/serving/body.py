"""Turn POST /predict bodies into batches, at C speed when the body is valid.

For a model whose inputs are all numeric, msgspec parses a body of valid rows and
checks it in one pass, in either shape (records or split). Anything it refuses,
and every body for other models, is parsed by the json module and checked row by
row by ``validation.check_batch``, which names each problem; so a client sees the
same answers, only faster when the body is right.

A split body is the one to use for large batches: it does not repeat the column
names in every row, so it is about half the bytes to read and to parse.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from .model import Column
from .validation import Batch, NotJsonError, check_batch


class BodyReader:
    """Turns POST /predict bodies into batches for one model's columns and row limit."""

    def __init__(self, columns: Sequence[Column], max_rows: int) -> None:
        """Prepare the msgspec decoders of valid bodies when every column is numeric."""
        self.columns = list(columns)
        self.names = [column.name for column in self.columns]
        self.max_rows = max_rows
        self._records: msgspec.json.Decoder[Any] | None = None
        self._split: msgspec.json.Decoder[Any] | None = None
        if self.columns and all(column.numeric for column in self.columns):
            # Fields named f0, f1... stand for the columns, whatever their names.
            fields = [f"f{index}" for index in range(len(self.columns))]
            numbers = [(name, float) for name in fields]  # JSON integers are read as floats
            row = msgspec.defstruct(
                "Row",
                numbers,
                rename=dict(zip(fields, self.names, strict=True)),  # the JSON keys
                # Keys the model does not take are ignored, as on the row-by-row path.
                gc=False,  # rows hold only floats, so the garbage collector can skip them
            )
            self._records = msgspec.json.Decoder(list[row] | row)  # type: ignore[valid-type]
            values = msgspec.defstruct(
                "Values", numbers, array_like=True, forbid_unknown_fields=True, gc=False
            )
            split = msgspec.defstruct(
                "SplitBody",
                [("columns", list[str]), ("data", list[values]), ("index", Any, None)],  # type: ignore[valid-type]
                forbid_unknown_fields=True,
            )
            self._split = msgspec.json.Decoder(split)

    def read(self, data: bytes) -> Batch:
        """The rows of ``data`` as a batch.

        Raises:
            NotJsonError: ``data`` is not JSON.
            RequestError: The rows break the rules; the error names every problem.
        """
        frame = self._valid_numeric_frame(data)
        if frame is not None:
            return Batch(frame, 0.0)
        try:
            body = json.loads(data)  # reads NaN and Infinity, so checks can name their columns
        except (ValueError, RecursionError) as error:  # JSONDecodeError and bad UTF-8 included
            raise NotJsonError(str(error)) from None
        return check_batch(body, self.columns, self.max_rows)

    def _valid_numeric_frame(self, data: bytes) -> pd.DataFrame | None:
        """The frame of a valid body of either shape, else None (any doubt: None)."""
        if self._records is None or self._split is None:
            return None
        try:
            decoded = self._records.decode(data)
        except msgspec.MsgspecError:
            try:
                split = self._split.decode(data)
            except msgspec.MsgspecError:
                return None
            if sorted(split.columns) != sorted(self.names):  # each input column, once
                return None
            return self._frame(split.data, split.columns)
        return self._frame(decoded if isinstance(decoded, list) else [decoded], self.names)

    def _frame(self, rows: Sequence[Any], order: list[str]) -> pd.DataFrame | None:
        """The frame of decoded rows whose values come in ``order``, if they make a valid batch."""
        if not 0 < len(rows) <= self.max_rows:
            return None
        values = chain.from_iterable(map(msgspec.structs.astuple, rows))
        matrix = np.fromiter(values, np.float64, len(rows) * len(order))
        matrix = matrix.reshape(len(rows), len(order))
        if not np.isfinite(matrix).all():
            return None
        frame = pd.DataFrame(matrix, columns=order)
        return frame if order == self.names else frame[self.names]
