"""Fine-tuning a pretrained encoder: schedules, heads, data formats and metrics per task."""
