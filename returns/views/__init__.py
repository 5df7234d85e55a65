"""The returns pages: the staff's queue and return page (``staff``), the warehouse's
receive-by-scan screens (``warehouse``), and the customer's return request behind the
tracking link (``customer``)."""
