"""Document storage (and, later, OCR, barcodes, full-text index, retention)."""
