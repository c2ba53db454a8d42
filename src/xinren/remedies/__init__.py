"""Remedies: refunds, statutory compensation, the guarantee fund that pays first (先行赔付) and
the recovery claims (追偿) that get the money back from whoever is liable."""
