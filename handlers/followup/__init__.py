"""The reporter after submitting: My reports, news from coordinators, adding information."""
