"""Stage 1, plans: Claude's plans directory (`plans`) and the advice on each (`advice`)."""
