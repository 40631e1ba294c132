"""Tools that drive Fieldwork from outside, like a phone or an integrator would."""
