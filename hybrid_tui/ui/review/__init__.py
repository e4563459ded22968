"""The review screen and the widgets it is made of, and the revise note it opens."""
