"""Pure rules of the conversation engine: functions over records, no I/O (STYLE.md)."""
