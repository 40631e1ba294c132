"""Completion sheets: primitive dict → HTML (Jinja) → PDF (WeasyPrint) → signed PDF (pyHanko).

Plain Python: nothing here imports ``server``, Flask or SQLAlchemy. The service layer dumps a
work order into the primitive dict :mod:`pdf.sheet` documents, passes the stored photo bytes
in by key, and stores what comes out. WeasyPrint is imported only when a PDF is rendered
(its import alone takes about 0.6 s), so importing this package stays cheap.
"""
