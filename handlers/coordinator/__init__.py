"""The coordinators' side: the case card, the queue, and replies to reporters."""
