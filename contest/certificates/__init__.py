"""Certificates: award rules, rendering (PNG and PDF with Pillow and Be Vietnam Pro), verification, bulk jobs."""
