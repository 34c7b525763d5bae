"""Cutroom imaging engine: pure numpy/OpenCV/Pillow/onnxruntime code (no Django)."""
