"""The protocol both sides share: canonical encoding, signing, batches, ledger rules.

Pure: values in, values or decisions out. No database, network, clock or randomness;
time, ids and keys are always arguments. That is what lets the simulation tests run a
whole fleet of kiosks deterministically.
"""
