//! The view in the URL: written whenever the dataset, the variant, the sample or the stage
//! changes (read once, when the page starts).

use crate::state::State;
use crate::url;
use yew::prelude::*;

#[hook]
pub fn use_url(state: &State) {
    use_effect_with(state.url(), url::write);
}
