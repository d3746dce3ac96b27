"""The public survey pages: /s/<token> (personal invitation) and /a/<survey key> (anonymous link)."""
