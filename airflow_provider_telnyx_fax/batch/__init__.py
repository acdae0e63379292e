"""Helpers of SendFaxBatchOperator and FaxBatchTrigger: rows, the ledger, the send loop, waiting, the manifest."""
