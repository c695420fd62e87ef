"""Rewards, oracles and metrics for DNA sequences (extra `dna`: pyjaspar, logomaker).

Optional dependencies are imported at the point of use through
``sciddm._core.extras.require``, so ``import sciddm.dna`` works without them (a
function that needs one raises an ImportError naming the extra). Raw data (the yeast
ARS1 library) is read by :mod:`sciddm.dna.data`.
"""

from typing import TYPE_CHECKING

__all__ = [
    "N_POLICIES",
    "ArsLibrary",
    "ArsOracle",
    "LikelihoodEstimate",
    "OracleFit",
    "SequenceReport",
    "approx_log_likelihood",
    "hamming_diversity",
    "kmer_diversity",
    "kmer_spectrum",
    "kmer_spectrum_correlation",
    "load_oracle",
    "motif_counts",
    "reward_quantiles",
    "save_oracle",
    "sequence_report",
    "train_ars_oracles",
    "Motif",
    "MotifReward",
    "decode_dna",
    "encode_dna",
    "gc_content",
    "homopolymer_penalty",
    "jaspar_ids",
    "load_jaspar",
    "max_homopolymer",
    "motif_occurrences",
    "pwm_scores",
    "read_ars",
    "reverse_complement",
]

if TYPE_CHECKING:
    from sciddm.dna._metrics import (
        LikelihoodEstimate,
        SequenceReport,
        approx_log_likelihood,
        hamming_diversity,
        kmer_diversity,
        kmer_spectrum,
        kmer_spectrum_correlation,
        motif_counts,
        reward_quantiles,
        sequence_report,
    )
    from sciddm.dna._oracle import ArsOracle, OracleFit, load_oracle, save_oracle, train_ars_oracles
    from sciddm.dna._pwm import (
        Motif,
        MotifReward,
        jaspar_ids,
        load_jaspar,
        motif_occurrences,
        pwm_scores,
    )
    from sciddm.dna._seq import (
        N_POLICIES,
        decode_dna,
        encode_dna,
        gc_content,
        homopolymer_penalty,
        max_homopolymer,
        reverse_complement,
    )
    from sciddm.dna.data import ArsLibrary, read_ars
else:
    from sciddm._core.lazy import lazy_exports

    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "._metrics": (
                "LikelihoodEstimate",
                "SequenceReport",
                "approx_log_likelihood",
                "hamming_diversity",
                "kmer_diversity",
                "kmer_spectrum",
                "kmer_spectrum_correlation",
                "motif_counts",
                "reward_quantiles",
                "sequence_report",
            ),
            "._oracle": (
                "ArsOracle",
                "OracleFit",
                "load_oracle",
                "save_oracle",
                "train_ars_oracles",
            ),
            "._pwm": (
                "Motif",
                "MotifReward",
                "jaspar_ids",
                "load_jaspar",
                "motif_occurrences",
                "pwm_scores",
            ),
            "._seq": (
                "N_POLICIES",
                "decode_dna",
                "encode_dna",
                "gc_content",
                "homopolymer_penalty",
                "max_homopolymer",
                "reverse_complement",
            ),
            ".data": ("ArsLibrary", "read_ars"),
        },
        __all__,
        submodules=("data",),
    )
