"""Monitoring: is the served model still fed data like the data it learned from?

``make monitor`` (:mod:`.monitor`) compares the prediction log, or a file
(:mod:`.batches`), with the reference of the model version that served it
(:mod:`.reference`), column by column
(:mod:`.comparison`, :mod:`.statistics`), and the live metric once labels arrive
(:mod:`.performance`); :mod:`.shipping` moves the logs to and from S3.
"""
