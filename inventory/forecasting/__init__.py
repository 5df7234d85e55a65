"""Stock forecasting and purchasing: demand history from the stock ledger, forecasts per
SKU and warehouse, reorder points, stock-out alerts, purchase suggestions and purchase
orders. A Django app of its own (label ``forecasting``) living inside ``inventory``: it
imports ``inventory`` and ``oms_site``, never ``orders`` or anything above."""
