"""tinygan: GANs from scratch on NumPy, with our own CUDA kernels."""
from pathlib import Path

from setuptools import setup

setup(
    name="tinygan",
    version="0.1.0",
    description="GANs from scratch: a small autograd engine on NumPy, custom CUDA kernels, every classic GAN",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=["tinygan", "tinygan.ops", "tinygan.nn", "tinygan.gans", "tinygan.baselines", "tinygan.kernels"],
    package_dir={"tinygan.kernels": "kernels"},
    package_data={"tinygan.kernels": ["*.cu"]},
    install_requires=["numpy>=1.24", "numba>=0.59", "matplotlib>=3.6", "tqdm>=4.60", "pillow>=9.0"],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6.80", "numba>=0.59", "numba-cuda>=0.4"],
        "cuda12": ["cupy-cuda12x>=13", "numba-cuda>=0.4"],
        "cuda13": ["cupy-cuda13x>=14", "numba-cuda>=0.4"],
    },
    entry_points={"console_scripts": ["tinygan=tinygan.cli:main"]},
)
