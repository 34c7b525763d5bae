"""Write services of the catalog app; import each from its module (nothing is re-exported)."""
