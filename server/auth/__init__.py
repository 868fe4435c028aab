"""Who is calling: API keys, identity-provider tokens, room links; and what they may do."""
