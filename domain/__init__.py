"""Domain values and the questionnaire, declared once as data."""
