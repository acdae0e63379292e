"""Helpers of SendFaxBatchOperator and FaxBatchTrigger: rows, the ledger, sending, waves, waiting, the manifest."""
