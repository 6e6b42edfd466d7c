"""Online quiz contests for Vietnam's digital-skills campaigns."""
