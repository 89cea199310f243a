"""Writing what trainer/reports/ builds as files other software reads: XLSX and CSV sheets, xAPI statements, the LRS."""
